import { defineCommand } from 'citty';
import { usageError } from '../errors.ts';

/** Words to complete after each command path ('' is the top level): subcommands and --flags. */
type CompletionTable = Record<string, string[]>;

export default defineCommand({
  meta: { name: 'completion', description: 'Print a shell completion script: eval "$(lap completion bash)" (bash, zsh, fish)' },
  args: { shell: { type: 'positional', required: true, description: 'bash, zsh or fish', valueHint: 'shell' } },
  async run({ args }) {
    const { completionTable } = await import('./index.ts');
    const table = await completionTable();
    const script = SCRIPTS[args.shell];
    if (!script) throw usageError(`no completion for ${args.shell}`, 'lap completion bash | zsh | fish');
    process.stdout.write(script(table));
  },
});

const caseArms = (table: CompletionTable) =>
  Object.entries(table).map(([path, words]) => `    "${path}") words="${words.join(' ')}" ;;`).join('\n');

/** Finds the longest known command path among the words typed so far, then offers its words. */
const bash = (table: CompletionTable) => `# lap completion for bash: eval "$(lap completion bash)"
_lap() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" try w words=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    try="\${path:+$path }$w"
    case "$try" in
${Object.keys(table).filter(Boolean).map((p) => `      "${p}") path="$try" ;;`).join('\n')}
    esac
  done
  case "$path" in
${caseArms(table)}
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -o default -F _lap lap
`;

const zsh = (table: CompletionTable) => `# lap completion for zsh: eval "$(lap completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bash(table)}`;

const fish = (table: CompletionTable) =>
  `# lap completion for fish: lap completion fish | source\n${Object.entries(table)
    .map(([path, words]) => {
      const condition = path ? `__fish_seen_subcommand_from ${path.split(' ').at(-1)}` : '__fish_use_subcommand';
      return `complete -c lap -f -n '${condition}' -a '${words.join(' ')}'`;
    })
    .join('\n')}\n`;

const SCRIPTS: Record<string, (table: CompletionTable) => string> = { bash, zsh, fish };
