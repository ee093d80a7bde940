import { z } from 'zod';

/** Inputs of the XCom API, shared by REST and GraphQL. */

export const xcomValueInput = z.strictObject({ value: z.json() });

export const xcomKey = z.string().min(1).max(250);
