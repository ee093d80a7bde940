import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export type GraphqlResponse = { status: number; data?: any; errors?: any[]; body: any };

/** One GraphQL operation through the real HTTP pipeline (Fastify inject): POST /graphql. */
export async function graphql(
  app: NestFastifyApplication,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<GraphqlResponse> {
  const res = await app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...headers }, payload: { query, variables } });
  const body = res.json();
  return { status: res.statusCode, data: body.data, errors: body.errors, body };
}

/** The data of an operation that must succeed; fails with the errors otherwise. */
export async function graphqlOk(app: NestFastifyApplication, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await graphql(app, query, variables);
  if (res.errors?.length || res.status !== 200) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(res.errors ?? res.body)}`);
  return res.data;
}
