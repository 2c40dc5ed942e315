import {Command, Flags} from '@oclif/core'
import {collectLive, writeSnapshotDir} from '../src/snapshot/live.ts'

export default class Snapshot extends Command {
  static override description = 'Collect this node\'s netfilter, routing and conntrack state into a snapshot directory (read-only commands only)'
  static override examples = ['<%= config.bin %> snapshot -o ./node1', '<%= config.bin %> snapshot -o ./pod-ns --netns cni-1234']
  static override flags = {
    output: Flags.directory({char: 'o', description: 'directory to write (created if missing)', required: true}),
    netns: Flags.string({description: 'collect inside this named network namespace (ip netns exec)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Snapshot)
    const {files, meta} = await collectLive({netns: flags.netns})
    await writeSnapshotDir(flags.output, files, meta)
    for (const [name, c] of Object.entries(meta.collected ?? {})) {
      if (c.exitCode !== 0) this.logToStderr(`not collected: ${name}: \`${c.command}\` exited ${c.exitCode}${c.stderr ? `: ${c.stderr.split('\n')[0]}` : ''}`)
    }
    this.log(`wrote ${files.size} files to ${flags.output}`)
  }
}
