/**
 * `sysctl -a` output: `key = value` per line (procps sysctl.c). Keys are kept as printed: a device name with a dot
 * is printed with `/` in its place (`net.ipv4.conf.eth0/100.rp_filter`), see sysctlDevKey().
 */
import type {Diagnostic} from '../model/snapshot.ts'

export function parseSysctl(text: string, file: string): {values: Map<string, string>; diagnostics: Diagnostic[]} {
  const values = new Map<string, string>()
  const diagnostics: Diagnostic[] = []
  text.split('\n').forEach((line, n) => {
    if (!line.trim() || line.startsWith('#')) return
    const eq = line.indexOf(' = ')
    const m = eq >= 0 ? [line.slice(0, eq), line.slice(eq + 3)] : /^([^\s=]+)\s*=\s*(.*)$/.exec(line)?.slice(1)
    if (!m) diagnostics.push({file, line: n + 1, severity: 'warning', message: `not \`key = value\`: ${line.slice(0, 80)}`})
    else values.set(m[0].trim(), m[1].trim())
  })
  return {values, diagnostics}
}

/** The sysctl key of a per-device setting: `sysctl` prints dots inside device names as `/`. */
export function sysctlDevKey(prefix: string, dev: string, leaf: string): string {
  return `${prefix}.${dev.replaceAll('.', '/')}.${leaf}`
}
