// How long tasks (export, import, migrations, rebuilds, mirror sync) tell whoever runs them how far
// they are, without printing: the code doing the work calls an `OnProgress` with a phase name and
// counts, and the CLI decides how to show it (progress-bar.ts). Servers pass nothing.

/** `done` of `total` units of `phase` are finished; `what` names the last one, when useful. */
export type OnProgress = (phase: string, done: number, total: number, what?: string) => void;

export const noProgress: OnProgress = () => {};
