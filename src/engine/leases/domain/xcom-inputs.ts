import { z } from 'zod';
import { NOT_ONLY_DOTS_PATTERN, ONLY_DOTS_MESSAGE } from '../../../common/ids.js';

/** Inputs of the XCom API, shared by REST and GraphQL. */

export const xcomValueInput = z.strictObject({ value: z.json() });

/** An XCom key is free text, but it is a URL path segment (…/xcomEntries/{key}): never only dots (common/ids.ts). */
export const xcomKey = z.string().min(1).max(250).regex(NOT_ONLY_DOTS_PATTERN, { error: ONLY_DOTS_MESSAGE });
