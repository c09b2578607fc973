/**
 * Terraform reads `${` and `%{` in any string as template syntax; text that must reach the
 * host unchanged (a script's own `${var}`) is written `$${var}`.
 */
export function escapeTemplate(text: string): string {
  return text.replace(/\$\{/g, "$$${").replace(/%\{/g, "%%{");
}

/** A Terraform string literal (quoted, escaped) for use inside an expression. */
export function hclString(text: string): string {
  return escapeTemplate(JSON.stringify(text));
}
