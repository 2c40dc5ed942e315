/** `[!] -i name[+]`: the input device (none for locally generated packets: only `-i +` matches then). */
import {interfaceMatch} from './util/header.ts'

export const inInterface = interfaceMatch('in', 'i', 'in-interface', 'iif', 'in-interface')
