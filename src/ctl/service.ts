import { ExitCode } from '../errors.js';
import type * as Service from '../service/install.js';
import type { CommandContext } from './context.js';

/** What keyupctl needs of src/service/install.ts: loaded only for these two commands, it reads files and runs systemctl. */
export type ServiceModule = Pick<typeof Service, 'createServiceInit' | 'install' | 'uninstall'>;
export type LoadService = () => Promise<ServiceModule>;

/** `keyupctl install [--dry-run]`: the service module's lines, as they are. Failures are its KeyupErrors. */
export async function runInstall(ctx: CommandContext, { dryRun }: { dryRun: boolean }, loadService: LoadService): Promise<ExitCode> {
  const service = await loadService();
  const report = await service.install(service.createServiceInit(), { dryRun });
  ctx.out(report.lines.map((line) => `${line}\n`).join(''));
  return ExitCode.ok;
}

/** `keyupctl uninstall`. */
export async function runUninstall(ctx: CommandContext, loadService: LoadService): Promise<ExitCode> {
  const service = await loadService();
  const report = await service.uninstall(service.createServiceInit());
  ctx.out(report.lines.map((line) => `${line}\n`).join(''));
  return ExitCode.ok;
}
