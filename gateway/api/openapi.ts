// The OpenAPI 3.1 document, generated from the same zod schemas mountRoutes validates with.
import { z } from 'zod';
import { errorBodySchema } from './errors.ts';
import type { RouteSpec } from './route.ts';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const SECURITY_SCHEME = 'bearer';

/**
 * Named schemas (zod `.meta({id})`) become components; everything else is inlined. One name must
 * always mean one schema: a clash is a programming error and throws here, so tests catch it.
 */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The JSON Schema of `schema`, with named parts lifted into components and referenced. */
  toJsonSchema(schema: z.ZodType, io: Io): JsonSchema {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    const { $schema: _dialect, $defs, ...root } = rewriteRefs(json) as JsonSchema;
    for (const [name, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) this.add(name, definition);
    return root;
  }

  private add(name: string, definition: JsonSchema): void {
    const existing = this.schemas[name];
    if (existing && JSON.stringify(existing) !== JSON.stringify(definition)) {
      throw new Error(`two different schemas are both named ${name} (an input and an output shape?): give them distinct ids`);
    }
    this.schemas[name] = definition;
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(inner),
    ]),
  );
}

export function openApiDocument(routes: RouteSpec[], info: { title: string; version: string; description?: string }): object {
  const components = new Components();
  components.toJsonSchema(errorBodySchema, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operations = (paths[route.path] ??= {});
    if (operations[route.method]) throw new Error(`two routes for ${route.method.toUpperCase()} ${route.path}`);
    operations[route.method] = operation(route, components);
  }
  const tags = [...new Set(routes.map((route) => route.tag))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags,
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        [SECURITY_SCHEME]: { type: 'http', scheme: 'bearer', description: 'The master key or a named API key: `Authorization: Bearer <key>`' },
      },
    },
  };
}

export function operationIdOf(route: RouteSpec): string {
  return route.operationId ?? `${route.method}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ?? '').toUpperCase())}`;
}

function operation(route: RouteSpec, components: Components): Record<string, unknown> {
  const parameters = [
    ...parametersOf(route.params, 'path', components),
    ...parametersOf(route.query, 'query', components),
  ];
  return {
    operationId: operationIdOf(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security: route.auth === 'none' ? [] : [{ [SECURITY_SCHEME]: [] }],
    'x-lap-auth': route.auth,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: components.toJsonSchema(route.body, 'input') } } } } : {}),
    responses: responsesOf(route, components),
  };
}

function parametersOf(schema: z.ZodObject<any> | undefined, where: 'path' | 'query', components: Components): object[] {
  if (!schema) return [];
  const json = components.toJsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: propertySchema,
    };
  });
}

/** The route's own responses plus the refusals mountRoutes itself may answer. */
function responsesOf(route: RouteSpec, components: Components): Record<string, object> {
  const framework: Record<number, string> = {};
  // Every route can refuse a query parameter it does not take.
  framework[400] = 'Invalid request: details list every field or query parameter at fault';
  if (route.auth !== 'none') framework[401] = 'Missing, malformed, unknown or revoked API key';
  if (route.auth === 'admin') framework[403] = 'The key is not an admin key';
  if (route.body) {
    framework[413] = 'The body is larger than the limit';
    framework[415] = 'The body is not JSON (application/json, or form-urlencoded as curl -d sends)';
  }
  const responses: Record<string, object> = {};
  for (const [status, description] of Object.entries(framework)) responses[status] = errorResponseObject(description, Number(status));
  for (const [status, spec] of Object.entries(route.responses)) {
    if (Number(status) >= 400 && !spec.schema) {
      responses[status] = errorResponseObject(spec.description, Number(status));
    } else if (spec.schema) {
      responses[status] = { description: spec.description, content: { [spec.contentType ?? 'application/json']: { schema: components.toJsonSchema(spec.schema, 'output') } } };
    } else {
      responses[status] = { description: spec.description, ...(spec.contentType ? { content: { [spec.contentType]: {} } } : {}) };
    }
  }
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
}

function errorResponseObject(description: string, status: number): object {
  return {
    description,
    ...(status === 401 ? { headers: { 'WWW-Authenticate': { description: 'Bearer realm="lap"', schema: { type: 'string' } } } } : {}),
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
}
