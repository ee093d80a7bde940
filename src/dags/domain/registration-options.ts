import type { DagDocument } from './dag-document.schema.js';

/** What a document says about its registration rather than about the workflow. */
export type RegistrationOptions = { isPausedUponCreation: boolean };

/**
 * Splits the registration options off a document: the rest is the DAG's content, what is stored as a version and
 * hashed. `isPausedUponCreation` matters once, when the DAG is created, so it is neither (changing it alone adds no
 * version, and an existing DAG keeps its pause state).
 */
export function splitRegistrationOptions(doc: DagDocument): { content: DagDocument; options: RegistrationOptions } {
  const { isPausedUponCreation, ...content } = doc;
  return { content, options: { isPausedUponCreation: isPausedUponCreation ?? false } };
}
