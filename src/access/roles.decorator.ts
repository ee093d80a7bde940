import { SetMetadata } from '@nestjs/common';
import type { Config } from '../config/config.js';
import type { Role } from '../auth/domain/api-key.js';

export const ROLES_KEY = 'weft:roles';
export const PUBLIC_KEY = 'weft:public';
export const PUBLIC_WHEN_KEY = 'weft:public-when';

/**
 * Who may call an endpoint. Roles nest: admin ⊇ operator ⊇ viewer; `worker` is the lease API only (admins may use
 * it too). An endpoint without @Roles or @Public is admin-only, so a forgotten annotation fails closed.
 */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
export const Public = () => SetMetadata(PUBLIC_KEY, true);
/** Public when the configuration says so (e.g. WEFT_METRICS_PUBLIC); otherwise the endpoint's @Roles apply. */
export const PublicWhen = (when: (config: Config) => boolean) => SetMetadata(PUBLIC_WHEN_KEY, when);

/** Read endpoints. */
export const CanRead = () => Roles('viewer');
/** Run control: trigger, clear, mark, backfill, pools, pause. */
export const CanOperate = () => Roles('operator');
/** The worker lease protocol. */
export const WorkerApi = () => Roles('worker');
/** Administration: DAG registration and deletion, keys, audit log. */
export const AdminOnly = () => Roles('admin');

const RANK: Record<Exclude<Role, 'worker'>, number> = { viewer: 1, operator: 2, admin: 3 };

/** Whether a key of role `has` satisfies an endpoint that allows `allowed`. */
export function roleAllows(has: Role, allowed: Role[]): boolean {
  if (has === 'admin') return true;
  return allowed.some((need) => {
    if (need === 'worker' || has === 'worker') return need === has;
    return RANK[has] >= RANK[need];
  });
}
