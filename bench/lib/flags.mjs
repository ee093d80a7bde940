// Command-line flags of the bench scripts: `--name=value` or `--name` (true); anything else is an error.
export function parseFlags(args = process.argv.slice(2)) {
  return Object.fromEntries(args.map((a) => {
    const m = a.match(/^--([^=]+)(?:=(.*))?$/);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2] ?? true];
  }));
}
