import type { DagDocument } from './dag-document.schema.js';

export type DagOutboundTargets = {
  /** Alert webhooks and Slack callbacks: called by Weft itself (the callbacks policy). */
  callbacks: { path: string; url: string }[];
  /** http task URLs: called by the worker (the http-task policy). */
  httpTasks: { path: string; url: string }[];
};

/**
 * The URLs of a document that the outbound-address policy judges at registration. The schema keeps templates out of
 * an http task's host; what a template makes of the rest (even a different host, through user info) is judged again
 * when the worker connects.
 */
export function dagOutboundTargets(doc: DagDocument): DagOutboundTargets {
  const callbacks = (['slaCallbacks', 'onFailureCallbacks'] as const).flatMap((list) =>
    doc[list].flatMap((cb, i) => {
      if (cb.type === 'webhook') return [{ path: `${list}[${i}].url`, url: cb.url }];
      if (cb.type === 'slack') return [{ path: `${list}[${i}].webhookUrl`, url: cb.webhookUrl }];
      if (cb.type === 'pagerduty' && cb.url !== undefined) return [{ path: `${list}[${i}].url`, url: cb.url }];
      return [];
    }),
  );
  const httpTasks = doc.tasks.flatMap((task, i) =>
    task.type === 'http' && 'request' in task ? [{ path: `tasks[${i}].request.url`, url: task.request.url }] : [],
  );
  return { callbacks, httpTasks };
}

