// The /docs page: the OpenAPI document rendered as one self-contained HTML page (no scripts, no
// external fonts or stylesheets), so it works offline and under a strict Content-Security-Policy.

type Json = Record<string, any>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
const MAX_DEPTH = 8;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function operationAnchor(method: string, path: string): string {
  return `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

export function docsPage(doc: object): string {
  const document = doc as Json;
  const operations = listOperations(document);
  const title = escapeHtml(String(document.info?.title ?? 'API'));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body><header><h1>${title} <small>${escapeHtml(String(document.info?.version ?? ''))}</small></h1>
<p>OpenAPI document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>.
Every error is <code>{"error":{"code","message","details"}}</code>.</p></header>
<nav><ul>${operations.map(({ method, path, op }) => `<li><a href="#${operationAnchor(method, path)}"><span class="m ${method}">${method.toUpperCase()}</span> ${escapeHtml(path)}</a> ${escapeHtml(String(op.summary ?? ''))}</li>`).join('')}</ul></nav>
<main>${operations.map(renderOperation).join('\n')}
<section><h2>Schemas</h2>${Object.entries((document.components?.schemas ?? {}) as Record<string, Json>).map(([name, schema]) => `<div class="schema" id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${renderSchema(schema, 0)}</div>`).join('')}</section>
</main></body></html>`;
}

function listOperations(document: Json): { method: string; path: string; op: Json }[] {
  return Object.entries((document.paths ?? {}) as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ method, path, op: item[method] as Json })),
  );
}

function renderOperation({ method, path, op }: { method: string; path: string; op: Json }): string {
  const auth = (op.security ?? []).length === 0 ? 'none' : op['x-lap-auth'] === 'admin' ? 'admin key' : 'API key';
  const parameters = (op.parameters ?? []) as Json[];
  const body = op.requestBody?.content?.['application/json']?.schema as Json | undefined;
  return `<section class="op" id="${operationAnchor(method, path)}">
<h2><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h2>
<p class="summary">${escapeHtml(String(op.summary ?? ''))}</p>${op.description ? `<p>${escapeHtml(String(op.description))}</p>` : ''}
<p class="meta">Auth: ${auth} · operationId <code>${escapeHtml(String(op.operationId ?? ''))}</code></p>
${parameters.length > 0 ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>description</th></tr>${parameters.map(renderParameter).join('')}</table>` : ''}
${body ? `<h4>Request body <small>application/json</small></h4>${renderSchema(body, 0)}` : ''}
<h4>Responses</h4><dl class="responses">${Object.entries((op.responses ?? {}) as Record<string, Json>).map(([status, response]) => renderResponse(status, response)).join('')}</dl>
</section>`;
}

function renderParameter(parameter: Json): string {
  const name = `${escapeHtml(String(parameter.name))}${parameter.required ? ' <span class="req">required</span>' : ''}`;
  return `<tr><td><code>${name}</code></td><td>${escapeHtml(String(parameter.in))}</td><td>${typeLabel(parameter.schema ?? {})}${constraints(parameter.schema ?? {})}</td><td>${escapeHtml(String(parameter.description ?? ''))}</td></tr>`;
}

function renderResponse(status: string, response: Json): string {
  const content = Object.entries((response.content ?? {}) as Record<string, Json>);
  const bodies = content.map(([type, media]) => `<div><small>${escapeHtml(type)}</small>${media.schema ? renderSchema(media.schema, 0) : ''}</div>`).join('');
  return `<dt class="s${status[0]}">${escapeHtml(status)}</dt><dd>${escapeHtml(String(response.description ?? ''))}${bodies}</dd>`;
}

/** A schema as a nested list of fields, each with its type, constraints and description. */
export function renderSchema(raw: Json, depth: number): string {
  const schema = unwrapNullable(raw);
  const head = `<span class="type">${typeLabel(schema)}</span>${constraints(schema)}${schema.description ? ` — ${escapeHtml(String(schema.description))}` : ''}`;
  const properties = schema.properties as Record<string, Json> | undefined;
  if (!properties || depth >= MAX_DEPTH) {
    const items = schema.items as Json | undefined;
    return items?.properties && depth < MAX_DEPTH ? `<div class="schema-body">${head}${renderSchema(items, depth + 1)}</div>` : `<div class="schema-body">${head}</div>`;
  }
  const required = new Set((schema.required ?? []) as string[]);
  const fields = Object.entries(properties).map(([name, rawProperty]) => {
    const property = unwrapNullable(rawProperty);
    const label = `<code>${escapeHtml(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ''}`;
    if (property.properties || property.items?.properties) return `<li>${label} ${renderSchema(property, depth + 1)}</li>`;
    return `<li>${label} <span class="type">${typeLabel(property)}</span>${constraints(property)}${property.description ? ` — ${escapeHtml(String(property.description))}` : ''}</li>`;
  });
  return `<div class="schema-body">${head}<ul>${fields.join('')}</ul></div>`;
}

/** `X | null` shown as X with "| null" on its type, so X's fields, constraints and description still show. */
function unwrapNullable(schema: Json): Json {
  const options = schema.anyOf as Json[] | undefined;
  if (!Array.isArray(options) || options.length !== 2) return schema;
  const inner = options.find((option) => option.type !== 'null');
  if (!inner || inner.$ref || !options.some((option) => option.type === 'null')) return schema;
  const { anyOf: _options, ...rest } = schema;
  const types = Array.isArray(inner.type) ? inner.type : inner.type ? [inner.type] : [];
  return { ...inner, ...rest, type: [...types, 'null'], description: schema.description ?? inner.description };
}

function typeLabel(schema: Json): string {
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() ?? '';
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(' | ');
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map(typeLabel).join(' | ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  return types
    .map((type: string) => {
      if (type === 'array') return `array of ${schema.items ? typeLabel(schema.items) : 'any'}`;
      if (type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') return `map of ${typeLabel(schema.additionalProperties)}`;
      return escapeHtml(type);
    })
    .join(' | ') || 'any';
}

function constraints(schema: Json): string {
  const parts: string[] = [];
  for (const [key, label] of [['minLength', 'min length'], ['maxLength', 'max length'], ['minimum', 'min'], ['maximum', 'max'], ['minItems', 'min items'], ['maxItems', 'max items']] as const) {
    if (typeof schema[key] === 'number' && schema[key] < Number.MAX_SAFE_INTEGER && schema[key] > Number.MIN_SAFE_INTEGER) parts.push(`${label} ${schema[key]}`);
  }
  if (typeof schema.pattern === 'string') parts.push(`pattern <code>${escapeHtml(schema.pattern)}</code>`);
  if (schema.default !== undefined) parts.push(`default <code>${escapeHtml(JSON.stringify(schema.default))}</code>`);
  if (Array.isArray(schema.examples) && schema.examples.length > 0) parts.push(`e.g. <code>${escapeHtml(JSON.stringify(schema.examples[0]))}</code>`);
  return parts.length > 0 ? ` <span class="c">(${parts.join(', ')})</span>` : '';
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2433;background:#fafbfc}
header,nav,main{max-width:70rem;margin:0 auto;padding:0 1.5rem}header h1 small{color:#667;font-weight:normal;font-size:60%}
nav ul{list-style:none;padding:0;columns:2}nav li{margin:.15rem 0;break-inside:avoid}nav a{text-decoration:none;color:inherit}
.op{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.5rem 1.25rem;margin:1.25rem 0}
.op h2{font-size:1.1rem}.summary{font-weight:600}.meta{color:#556;font-size:.9em}
.m{display:inline-block;min-width:4.2em;text-align:center;border-radius:4px;color:#fff;font:600 .8em monospace;padding:.1em .3em}
.get{background:#2f6fdf}.post{background:#1f8a4c}.put{background:#b26b00}.patch{background:#7a4cc2}.delete{background:#c23b3b}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,monospace;background:#f0f2f5;padding:0 .25em;border-radius:3px}
table{border-collapse:collapse}td,th{border:1px solid #dde1e6;padding:.25rem .5rem;text-align:left;vertical-align:top}
ul{margin:.2rem 0;padding-left:1.3rem}.req{color:#c23b3b;font-size:.8em}.c{color:#667;font-size:.9em}.type{color:#0b5394}
dl.responses dt{font:600 1em monospace;float:left;clear:left;width:3.5em}dl.responses dd{margin-left:4em;margin-bottom:.4rem}
.s2{color:#1f8a4c}.s4{color:#b26b00}.s5{color:#c23b3b}.schema{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.25rem 1rem;margin:.75rem 0}
`;
