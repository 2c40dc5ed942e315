import Hello from './hello.ts'
export const COMMANDS = {hello: Hello}
