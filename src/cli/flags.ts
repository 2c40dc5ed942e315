/** Flag groups shared by commands (spread into each command's `flags`, Shopify-CLI style). */
import {Flags} from '@oclif/core'

/** Where the node state comes from. Exactly one may be given; the default is --live. */
export const sourceFlags = {
  snapshot: Flags.directory({char: 's', description: 'snapshot directory (see traces/collect.sh)', exclusive: ['live', 'sample', 'iptables']}),
  live: Flags.boolean({description: 'read this node now (read-only commands; needs root for full state)', exclusive: ['snapshot', 'sample', 'iptables']}),
  sample: Flags.string({description: 'a snapshot bundled under traces/ (e.g. docker-host)', exclusive: ['snapshot', 'live', 'iptables']}),
  iptables: Flags.file({description: 'a single iptables-save (or ip6tables-save) dump; nothing else is known', exclusive: ['snapshot', 'live', 'sample']}),
  netns: Flags.string({description: 'with --live: read inside this named network namespace'}),
}

export const outputFlags = {
  json: Flags.boolean({description: 'machine-readable output (schema nfstep.trace/1, one JSON object per line per packet)'}),
  verbose: Flags.boolean({char: 'v', description: 'show every rule evaluated, and the policy rules of each route lookup'}),
  color: Flags.boolean({description: 'colour (default: when stdout is a terminal)', allowNo: true}),
}
