// Lint: typescript-eslint's recommended, type-aware rules for floating promises (an unawaited
// promise in a request handler is the classic source of lost errors in a Node server), and the
// rules between layers (docs/architecture.md, "Rules between layers"): each folder of src/ names
// the folders it must not import, so that dependencies point one way.
import tseslint from 'typescript-eslint';

/** The top-level wiring files of src/: only cli/ and the tests import them. */
const WIRING = ['registry', 'server', 'cluster'];

/**
 * A restriction for the files in `folder`: no relative import may reach any of `forbidden` (folders
 * of src/, `client`, or wiring file names). Relative paths are matched, so a folder's own files and
 * subfolders stay free.
 */
function layer(folder, forbidden, why) {
  const folders = forbidden.filter((name) => !WIRING.includes(name));
  const files = forbidden.filter((name) => WIRING.includes(name));
  const alternatives = [...folders.map((name) => `${name}/`), ...files.map((name) => `${name}\\.js$`)];
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(\\.\\./)+(${alternatives.join('|')})`, message: `${folder} ${why} (docs/architecture.md, "Rules between layers").` }] },
      ],
    },
  };
}

/** Everything outside a folder, for the folders that may import only `allowed` (folders of src/). */
function only(folder, allowed, why) {
  const regex = allowed.length === 0 ? '^\\.\\./' : `^\\.\\./(?!(${allowed.join('|')})/)`;
  return {
    files: [`${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex, message: `${folder} ${why} (docs/architecture.md, "Rules between layers").` }] },
      ],
    },
  };
}

const layerRules = [
  only('src/domain', [], 'imports nothing of ours'),
  only('src/ports', ['domain'], 'imports only src/domain'),
  only('src/lib', ['domain'], 'holds generic building blocks and imports only src/domain'),
  only('src/workers', ['domain', 'lib', 'ports'], 'runs on the CPU pool and imports only src/domain, src/lib and types from src/ports'),
  layer('src/config', ['ports', 'adapters', 'auth', 'services', 'mirror', 'workers', 'http', 'ops', ...WIRING], 'is read by the layers above and imports only src/domain, src/lib and client/'),
  layer('src/adapters', ['auth', 'services', 'mirror', 'workers', 'http', 'ops', 'config', 'client', ...WIRING], 'implements src/ports and imports only ports, domain and lib'),
  layer('src/auth', ['services', 'mirror', 'workers', 'http', 'adapters', 'ops', ...WIRING], 'sits below the services: it may not import services, mirror, workers, http or adapters'),
  layer('src/mirror', ['services', 'auth', 'workers', 'http', 'adapters', 'ops', ...WIRING], 'may not import services, auth, workers, http or adapters'),
  layer('src/services', ['http', 'mirror', 'adapters', 'ops', ...WIRING], 'may not import http, mirror, adapters or ops'),
  layer('src/http', ['adapters', 'ops', 'server', 'cluster'], 'reaches storage through src/ports, never src/adapters or src/ops'),
  layer('src/ops', ['http', 'server', 'cluster'], 'may not import http'),
  layer('client', ['src', 'cli'], 'is the standalone client toolkit and imports nothing from src/ or cli/'),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/**', 'scripts/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises that the runner itself tracks.
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  ...layerRules,
);
