// `npm run dev`: the server from source (restarted on change) on port 3001, and Vite's dev server with
// HMR on port 3000 proxying /api and /healthz to it.
import { spawn } from 'node:child_process';

const apiPort = process.env.PULSEBOARD_API_PORT ?? '3001';
const children = [
  spawn('npx', ['tsx', 'watch', 'server/main.ts', '--port', apiPort], { stdio: 'inherit' }),
  spawn('npx', ['vite', '--port', '3000', '--strictPort'], { stdio: 'inherit', env: { ...process.env, PULSEBOARD_API_PORT: apiPort } }),
];
const stop = () => {
  for (const child of children) child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const child of children)
  child.on('exit', (code) => {
    stop();
    process.exitCode = code ?? 0;
  });
