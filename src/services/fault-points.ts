// Fault injection for crash-consistency tests: when CRATEKEEPER_FAULT names a point, the process
// kills itself there with SIGKILL, as a power cut or an OOM kill would. Off unless set.

export type FaultPoint = 'publish-after-blob' | 'publish-after-commit';

export type FaultPoints = (point: FaultPoint) => void;

export function faultPointsFromEnv(env: NodeJS.ProcessEnv): FaultPoints {
  const armed = new Set((env.CRATEKEEPER_FAULT ?? '').split(',').filter(Boolean));
  if (armed.size === 0) return () => {};
  return (point) => {
    if (armed.has(point)) process.kill(process.pid, 'SIGKILL');
  };
}
