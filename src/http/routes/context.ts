// What every route module receives: the services and the auth pre-handlers.
import type { Keepsake } from '../../wiring/open-keepsake.js';
import type { AuthHooks } from '../auth.js';

export interface RouteContext {
  keepsake: Keepsake;
  auth: AuthHooks;
}
