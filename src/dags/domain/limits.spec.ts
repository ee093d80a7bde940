import { describe, expect, it } from '@jest/globals';
import { checkDocumentSize, MAX_DAG_DOCUMENT_BYTES } from './limits.js';

describe(checkDocumentSize.name, () => {
  it('accepts documents up to the limit', () => {
    expect(checkDocumentSize(0)).toBeNull();
    expect(checkDocumentSize(MAX_DAG_DOCUMENT_BYTES)).toBeNull();
  });

  it('rejects a larger document, naming its size and the limit', () => {
    expect(checkDocumentSize(MAX_DAG_DOCUMENT_BYTES + 1)).toEqual({
      path: '',
      message: `document is ${MAX_DAG_DOCUMENT_BYTES + 1} bytes; the limit is 1048576 bytes (1 MiB)`,
    });
  });
});
