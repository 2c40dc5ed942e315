import {Command} from '@oclif/core'
export default class Hello extends Command {
  static override description = 'hi'
  async run() { this.log('hello') }
}
