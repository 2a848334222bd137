// Devices and account states on the web pages: a user revokes one of their signed-in devices on
// "My tokens"; an administrator signs every device of a user out, or disables or enables an
// account (as `cratekeeper user signout|disable|enable` do). Audited alike.

import { notFound } from '../../domain/errors.js';
import type { Users } from '../../ports/users.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DeviceFlowService } from '../../services/device-flow.js';
import { auditSource } from '../audit-source.js';
import { formField } from '../form-body.js';
import { viewerOf } from '../page-viewer.js';
import { pageTokenIdParams } from '../schemas/token-request.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface AccountPageDeps {
  deviceFlow: DeviceFlowService;
  accounts: AccountService;
  users: Pick<Users, 'setDisabled'>;
  audit: AuditRecorder;
  /** Applies this process's own writes to its caches at once. */
  applyChanges: () => Promise<void>;
}

export const accountPageRoutes: RoutePlugin<AccountPageDeps> = async (app, deps) => {
  app.post('/tokens/devices/:id/revoke', { schema: { params: pageTokenIdParams } }, async (request, reply) => {
    const viewer = viewerOf(request);
    const id = Number(request.params.id);
    if (!(await deps.deviceFlow.revokeDevice(viewer.userId, id, `revoked by ${viewer.login} on "My tokens"`))) {
      throw notFound('token-not-found', `there is no active device with id ${id}`);
    }
    deps.audit.record('device-revoke', auditSource(request), { detail: `device session ${id} (web)` });
    return reply.redirect('/tokens?revoked=device', 303);
  });

  const adminOf = (request: Parameters<typeof viewerOf>[0]) => {
    const viewer = viewerOf(request);
    if (!viewer.isAdmin) throw notFound('no-such-page', `no such page: ${request.url.split('?')[0]}`);
    return viewer;
  };
  const done = (text: string) => `/admin/users?${new URLSearchParams({ done: text }).toString()}`;

  app.post('/admin/users/signout-devices', async (request, reply) => {
    adminOf(request);
    const user = await deps.accounts.requireUser(formField(request.body, 'login').trim());
    const count = await deps.deviceFlow.signOutAll(user.id, 'signed out by an administrator');
    deps.audit.record('device-signout-all', auditSource(request), { detail: `${user.login}: ${count} device(s) (web)` });
    return reply.redirect(done(`Signed out ${count} device(s) of ${user.login}.`), 303);
  });

  app.post('/admin/users/disable', async (request, reply) => {
    adminOf(request);
    const user = await deps.accounts.requireUser(formField(request.body, 'login').trim());
    const disable = formField(request.body, 'state') !== 'enabled';
    const changed = await deps.users.setDisabled(user.id, disable);
    await deps.applyChanges();
    deps.audit.record(disable ? 'user-disable' : 'user-enable', auditSource(request), { detail: `${user.login} (web)` });
    const state = disable ? 'disabled' : 'enabled';
    return reply.redirect(done(changed ? `The account ${user.login} is ${state}.` : `${user.login} was ${state} already.`), 303);
  });
};
