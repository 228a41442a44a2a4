/** Tool outputs in events are cut here: the event log is not the place for a whole file. */
export const MAX_TOOL_OUTPUT_CHARS = 16 * 1024;

/** A tool result's content (a string, or Anthropic content blocks) as text, cut to MAX_TOOL_OUTPUT_CHARS. */
export function toolOutputText(content: unknown): string {
  const text = typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((b: { type?: string; text?: string }) => (b?.type === 'text' ? (b.text ?? '') : `[${b?.type ?? 'content'}]`)).join('\n')
      : content === undefined || content === null ? '' : JSON.stringify(content);
  return text.length > MAX_TOOL_OUTPUT_CHARS ? `${text.slice(0, MAX_TOOL_OUTPUT_CHARS)}… (${text.length - MAX_TOOL_OUTPUT_CHARS} more characters)` : text;
}
