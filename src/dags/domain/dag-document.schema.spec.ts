import { describe, expect, it } from '@jest/globals';
import {
  BUILTIN_TASK_TYPES,
  customTaskSchema,
  DAG_JSON_SCHEMA_ID,
  dagDocumentSchema,
  dagJsonSchema,
  isTaskOfType,
  shellTaskSchema,
  taskSchemaForType,
  TRIGGER_RULES,
} from './dag-document.schema.js';
import { MAX_TASKS_PER_DAG } from './limits.js';

type JsonObject = Record<string, unknown>;

describe(dagJsonSchema.name, () => {
  const schema = dagJsonSchema();
  const defs = schema.$defs as Record<string, JsonObject>;

  it('is a draft 2020-12 JSON Schema with the served $id and a title', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe(DAG_JSON_SCHEMA_ID);
    expect(DAG_JSON_SCHEMA_ID).toBe('https://weft.dev/schemas/dag.json');
    expect(schema.title).toBe('Weft DAG document');
  });

  it('survives a JSON round trip unchanged, so it can be served and shipped as a file', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('describes what authors write: required fields, defaults, strict objects, limits', () => {
    const properties = schema.properties as Record<string, JsonObject>;
    expect(schema.required).toEqual(['dagId', 'tasks']);
    expect(schema.additionalProperties).toBe(false);
    expect(properties.timezone.default).toBe('UTC');
    expect(properties.tasks).toMatchObject({ minItems: 1, maxItems: MAX_TASKS_PER_DAG });
    expect(defs.ShellTask).toMatchObject({ additionalProperties: false, required: ['taskId', 'type'] });
    expect((defs.ShellTask.properties as Record<string, JsonObject>).triggerRule.enum).toEqual([...TRIGGER_RULES]);
  });

  it('offers each built-in task type and the custom type as named alternatives', () => {
    const items = (schema.properties as Record<string, JsonObject>).tasks.items as JsonObject;
    expect(items.anyOf).toEqual(
      ['ShellTask', 'HttpTask', 'SqlTask', 'NoopTask', 'ExternalTask', 'ContainerTask', 'BranchTask', 'CustomTask'].map((d) => ({ $ref: `#/$defs/${d}` })),
    );
  });

  it("keeps built-in names out of the custom type's pattern", () => {
    const typeSchema = (defs.CustomTask.properties as Record<string, JsonObject>).type;
    const pattern = new RegExp(typeSchema.pattern as string);
    for (const builtin of BUILTIN_TASK_TYPES) expect(pattern.test(builtin)).toBe(false);
    expect(pattern.test('ml.score')).toBe(true);
    expect(pattern.test('shell2')).toBe(true);
  });

  it('restricts callback and request URLs to http(s), as validation does', () => {
    const webhook = (defs.SlaCallback.oneOf as JsonObject[])[0].properties as Record<string, JsonObject>;
    expect(webhook.url).toMatchObject({ format: 'uri', pattern: '^https?://' });
  });

  it('returns a fresh copy each time', () => {
    const copy = dagJsonSchema();
    copy.title = 'changed';
    expect(dagJsonSchema().title).toBe('Weft DAG document');
  });
});

describe(taskSchemaForType.name, () => {
  it('selects the built-in schema by name and the custom schema otherwise', () => {
    expect(taskSchemaForType('shell')).toBe(shellTaskSchema);
    expect(taskSchemaForType('ml.score')).toBe(customTaskSchema);
    expect(taskSchemaForType('toString')).toBe(customTaskSchema);
  });
});

describe(isTaskOfType.name, () => {
  it('narrows a task to its built-in type', () => {
    const dag = dagDocumentSchema.parse({
      dagId: 'd',
      tasks: [
        { taskId: 'a', type: 'shell', command: 'echo' },
        { taskId: 'b', type: 'custom.shell' },
      ],
    });
    const commands = dag.tasks.flatMap((task) => (isTaskOfType(task, 'shell') ? [task.command] : []));
    expect(commands).toEqual(['echo']);
  });
});

describe('dagDocumentSchema', () => {
  it('does not let a custom type borrow a built-in name to skip its required fields', () => {
    expect(customTaskSchema.safeParse({ taskId: 'a', type: 'shell' }).success).toBe(false);
    expect(customTaskSchema.safeParse({ taskId: 'a', type: 'http' }).success).toBe(false);
    expect(dagDocumentSchema.safeParse({ dagId: 'd', tasks: [{ taskId: 'a', type: 'http' }] }).success).toBe(false);
  });

  it('gives each parse its own default arrays', () => {
    const first = dagDocumentSchema.parse({ dagId: 'd', tasks: [{ taskId: 'a', type: 'noop' }] });
    first.tags.push('mutated');
    first.tasks[0].dependsOn.push('mutated');
    const second = dagDocumentSchema.parse({ dagId: 'd', tasks: [{ taskId: 'a', type: 'noop' }] });
    expect(second.tags).toEqual([]);
    expect(second.tasks[0].dependsOn).toEqual([]);
  });
});
