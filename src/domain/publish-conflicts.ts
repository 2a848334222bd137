// The conflicts a publish can run into with what is stored. Checked twice: once before the .crate
// is written (so a refused publish writes nothing), and again inside the store's transaction
// (which decides races). Both places raise the same errors, made here.

import { conflict, forbidden } from './errors.js';

export const versionExists = (name: string, vers: string) =>
  conflict('version-exists', `crate \`${name}\` version \`${vers}\` already exists`);

export const crateNameTaken = (existing: string, name: string) =>
  conflict(
    'crate-name-taken',
    `a crate named \`${existing}\` already exists; \`${name}\` differs from it only in case or in \`-\`/\`_\`, and counts as the same name`,
  );

export const notAnOwner = (name: string) =>
  forbidden('not-an-owner', `you are not an owner of crate \`${name}\`; ask an owner to run \`cargo owner --add\``);
