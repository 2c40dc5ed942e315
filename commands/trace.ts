import {Args, Command} from '@oclif/core'
import {sourceFlags, outputFlags} from '../src/cli/flags.ts'
import {packetFlags, packetItems, resolvePacket} from '../src/cli/packets.ts'
import {loadSource} from '../src/cli/source.ts'
import {Session} from '../src/engine/trace.ts'
import {traceJson} from '../src/render/json.ts'
import {renderTrace} from '../src/render/human.ts'
import {formatDiagnostic} from '../src/model/snapshot.ts'
import {Flags} from '@oclif/core'

export default class Trace extends Command {
  static override description = 'Step packets through the node\'s netfilter hooks and tables and explain every decision'
  static override strict = false
  static override args = {packet: Args.string({description: 'tcpdump-like packet: "tcp 10.0.1.5:40000 > 10.96.0.10:80 in eth0" (or "local")'})}
  static override examples = [
    '<%= config.bin %> trace --sample docker-host \'tcp 203.0.113.7:40000 > 192.0.2.10:8080 in eth0\'',
    '<%= config.bin %> trace --iptables rules.txt --proto udp --src 10.0.0.5 --dst 10.96.0.10 --dport 53 --in eth0 --json',
    '<%= config.bin %> trace --snapshot ./node1 --packets packets.json --json',
  ]
  static override flags = {
    ...sourceFlags,
    ...packetFlags,
    ...outputFlags,
    choose: Flags.integer({description: 'follow only path N (1-based) where the kernel chooses at random'}),
    seed: Flags.integer({description: 'follow one random path, drawn with the kernel\'s probabilities from this seed'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Trace)
    const snapshot = await loadSource(flags)
    // Live reads that failed (no root, tool missing) are said, then the trace goes on with what was read.
    const live = snapshot.source.startsWith('live')
    for (const d of snapshot.diagnostics) if (d.severity !== 'info' || live) this.logToStderr(`${d.severity}: ${formatDiagnostic(d)}`)
    const session = new Session(snapshot)
    const items = await packetItems(flags, (argv as string[]).join(' '))
    const color = flags.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR)
    const sctx = {router: session.router, flow: (id: string | number) => session.flow(id)}
    for (const item of items) {
      const spec = resolvePacket(item, sctx)
      const result = session.trace(spec, {choose: flags.choose === undefined ? undefined : flags.choose - 1, seed: flags.seed})
      if (flags.json) this.log(JSON.stringify(traceJson(result)))
      else this.log(renderTrace(result, {color, verbose: flags.verbose}) + '\n')
    }
  }
}
