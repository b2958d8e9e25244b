import { History, type RotationRecord } from '../rotation/history.js';
import { findLastRotation, type LastRotation } from './view.js';

/**
 * The history as one run sees it, for the views of failed profiles. history.json is read at most
 * once, at the first failure: an offline laptop's check fails every profile, and a read for each
 * would be N reads of the same file. The run's rotator writes through this History, so a failure
 * it records after that read is still found.
 */
export class RunHistory extends History {
  private readonly appended: RotationRecord[] = [];
  private firstRead: Promise<readonly RotationRecord[]> | undefined;

  override async append(record: RotationRecord): Promise<void> {
    await super.append(record);
    this.appended.push(record);
  }

  /** The profile's last rotation: in what this run appended, else in the file as first read. */
  async findLast(profile: string): Promise<LastRotation | null> {
    // Informative only: an unreadable history leaves the view as it was.
    this.firstRead ??= this.read().catch(() => []);
    // A record appended before the read is in both; the last of a profile's is the same either way.
    return findLastRotation([...(await this.firstRead), ...this.appended], profile);
  }
}
