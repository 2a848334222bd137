// Path parameters naming a crate and a version. The router only ever hands over strings; whether
// they are a valid name and version is the service's question (it answers a hidden crate exactly
// like a missing one), so the schemas type them and check nothing more.

import { z } from 'zod';
import { requestSchema } from '../zod-type-provider.js';

export const crateParams = requestSchema('invalid-crate-name', z.object({ name: z.string() }));

export const crateVersionParams = requestSchema('invalid-version', z.object({ name: z.string(), version: z.string() }));
