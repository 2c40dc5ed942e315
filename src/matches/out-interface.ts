/** `[!] -o name[+]`: the output device (none before routing, e.g. PREROUTING: only `-o +` matches then). */
import {interfaceMatch} from './util/header.ts'

export const outInterface = interfaceMatch('out', 'o', 'out-interface', 'oif', 'out-interface')
