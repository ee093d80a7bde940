import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { named, timestamp } from './contract.js';
import { ComponentSchemas } from './zod-to-openapi.js';

describe(ComponentSchemas.name, () => {
  it('turns a named schema into a component and refers to it wherever it appears', () => {
    const item = named('Item', z.object({ id: z.int() }));
    const list = named('ItemList', z.object({ items: z.array(item), first: item.nullable() }));
    const sut = new ComponentSchemas();
    expect(sut.ref(list, 'output')).toEqual({ $ref: '#/components/schemas/ItemList' });
    expect(sut.all()).toEqual({
      Item: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
      ItemList: {
        type: 'object',
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/Item' } },
          first: { nullable: true, type: 'object', allOf: [{ $ref: '#/components/schemas/Item' }] },
        },
        required: ['items', 'first'],
      },
    });
  });

  it('documents timestamps as date-time strings and JSON values as unconstrained', () => {
    const sut = new ComponentSchemas();
    const json = sut.ref(z.object({ at: timestamp.nullable(), conf: z.record(z.string(), z.json()) }), 'output');
    expect(json.properties).toEqual({
      at: { nullable: true, type: 'string', format: 'date-time' },
      conf: { type: 'object', additionalProperties: {} },
    });
  });

  it('reads requests on their input side (defaults optional, strictness kept) and answers without strictness', () => {
    const body = z.strictObject({ capacity: z.int().min(1).default(1), queues: z.array(z.string()) });
    const sut = new ComponentSchemas();
    sut.ref(body, 'input', 'LeaseRequest');
    sut.ref(z.strictObject({ ok: z.boolean() }), 'output', 'Answer');
    const all = sut.all();
    expect(all.LeaseRequest).toMatchObject({ required: ['queues'], additionalProperties: false });
    expect(all.Answer).not.toHaveProperty('additionalProperties');
  });

  it('puts nullable on a typed branch of a nullable union (OpenAPI 3.0 ignores it beside anyOf)', () => {
    const sut = new ComponentSchemas();
    const json = sut.ref(z.union([z.string(), z.object({ a: z.int() })]).nullable(), 'output');
    expect(json).toEqual({
      anyOf: [{ type: 'string', nullable: true }, { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }],
    });
  });

  it('lists the fields of a query schema as parameters', () => {
    const query = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), tag: z.string().min(1).describe('Only DAGs with this tag') });
    expect(new ComponentSchemas().properties(query)).toEqual([
      { name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      { name: 'tag', required: true, schema: { type: 'string', minLength: 1, description: 'Only DAGs with this tag' } },
    ]);
  });

  it('refuses two different schemas under one name', () => {
    const sut = new ComponentSchemas();
    sut.ref(named('Same', z.object({ a: z.string() })), 'output');
    expect(() => sut.ref(named('Same', z.object({ b: z.string() })), 'output')).toThrow("two different schemas are named 'Same'");
  });

  it('refuses one unnamed schema under two fallback names, and writes a named one once', () => {
    const sut = new ComponentSchemas();
    const body = z.strictObject({ value: z.json() });
    sut.ref(body, 'input', 'SetEntryRequest');
    expect(sut.ref(body, 'input', 'SetEntryRequest')).toEqual({ $ref: '#/components/schemas/SetEntryRequest' });
    expect(() => sut.ref(body, 'input', 'SetMappedEntryRequest')).toThrow("written both as 'SetEntryRequest' and as 'SetMappedEntryRequest'");
    const shared = named('SharedRequest', z.strictObject({ value: z.json() }));
    expect(sut.ref(shared, 'input', 'OneRequest')).toEqual({ $ref: '#/components/schemas/SharedRequest' });
    expect(sut.ref(shared, 'input', 'OtherRequest')).toEqual({ $ref: '#/components/schemas/SharedRequest' });
    expect(Object.keys(sut.all())).toEqual(['SetEntryRequest', 'SharedRequest']);
  });
});
