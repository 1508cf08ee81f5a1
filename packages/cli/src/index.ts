export { runCli, runCommandLine } from './run-cli.js';
export { describeError } from './describe-error.js';
export type { CliContext, Command } from './cli-context.js';
export { ExitCode } from './exit-codes.js';
export { runDoctorChecks, type DoctorReport, type CheckResult, type CheckStatus } from './doctor/doctor-checks.js';
export { HostRoot } from './doctor/host-root.js';
export { publishChannel, acceptChannel, connectChannel, acceptChannelStream, connectChannelStream, type ChannelEndpoint } from './channel-endpoints.js';
export { UsageError } from './usage-error.js';
