// Agents: plain configuration (no secret values: credentials name secrets, they do not hold them).
import { StoreConflict, type AgentInput, type AgentRecord, type Store } from './types.ts';
import { newId } from './ids.ts';
import { integer, isUniqueViolation, now, text, textOrNull, type Row, type TableContext } from './sql.ts';

export function agentTable({ sql }: TableContext): Store['agents'] {
  const byId = (id: string) => {
    const row = sql('SELECT * FROM agents WHERE id = ?').get(id);
    return row ? toAgent(row) : undefined;
  };

  return {
    create(input) {
      const id = newId('agt');
      const at = now();
      withNameConflict(input.name, () =>
        sql(`INSERT INTO agents (id, name, harness, model, prompt, repository, branch, env_vars_json,
               credentials_json, egress_policy_json, idle_timeout_seconds, created_at, updated_at)
             VALUES ($id, $name, $harness, $model, $prompt, $repository, $branch, $env_vars_json,
               $credentials_json, $egress_policy_json, $idle_timeout_seconds, $at, $at)`)
          .run({ id, at, ...toColumns(input) }),
      );
      return byId(id)!;
    },

    update(id, input) {
      const { changes } = withNameConflict(input.name, () =>
        sql(`UPDATE agents SET name = $name, harness = $harness, model = $model, prompt = $prompt,
               repository = $repository, branch = $branch, env_vars_json = $env_vars_json,
               credentials_json = $credentials_json, egress_policy_json = $egress_policy_json,
               idle_timeout_seconds = $idle_timeout_seconds, updated_at = $at
             WHERE id = $id`)
          .run({ id, at: now(), ...toColumns(input) }),
      );
      return changes > 0 ? byId(id) : undefined;
    },

    get(idOrName) {
      // An id wins over a name, so a name that looks like another agent's id cannot shadow it.
      const row = sql('SELECT * FROM agents WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1').get(idOrName);
      return row ? toAgent(row) : undefined;
    },

    list() {
      return sql('SELECT * FROM agents ORDER BY created_at, id').all().map(toAgent);
    },

    delete(id) {
      return sql('DELETE FROM agents WHERE id = ?').run(id).changes > 0;
    },
  };
}

function withNameConflict<T>(name: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (isUniqueViolation(error)) throw new StoreConflict('name', `an agent named "${name}" already exists`);
    throw error;
  }
}

function toColumns(input: AgentInput) {
  return {
    name: input.name,
    harness: input.harness,
    model: input.model,
    prompt: input.prompt,
    repository: input.repository,
    branch: input.branch,
    env_vars_json: JSON.stringify(input.envVars),
    credentials_json: JSON.stringify(input.credentials),
    egress_policy_json: input.egressPolicy === null ? null : JSON.stringify(input.egressPolicy),
    idle_timeout_seconds: input.idleTimeoutSeconds,
  };
}

function toAgent(row: Row): AgentRecord {
  const egressPolicy = textOrNull(row, 'egress_policy_json');
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    harness: text(row, 'harness'),
    model: textOrNull(row, 'model'),
    prompt: textOrNull(row, 'prompt'),
    repository: textOrNull(row, 'repository'),
    branch: textOrNull(row, 'branch'),
    envVars: JSON.parse(text(row, 'env_vars_json')),
    credentials: JSON.parse(text(row, 'credentials_json')),
    egressPolicy: egressPolicy === null ? null : JSON.parse(egressPolicy),
    idleTimeoutSeconds: integer(row, 'idle_timeout_seconds'),
    createdAt: text(row, 'created_at'),
    updatedAt: text(row, 'updated_at'),
  };
}
