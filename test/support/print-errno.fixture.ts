import { XenError } from '@xenipc/core';
console.log(new XenError({ code: 'EAGAIN', syscall: 'x', message: 'y' }).errno);
process.exit(0);
