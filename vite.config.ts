import { defineConfig } from 'vite';

// The page is served by the pulseboard server from dist/web; `npm run dev` proxies /api to it.
export default defineConfig({
  root: 'web',
  base: './',
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': { target: `http://127.0.0.1:${process.env.PULSEBOARD_API_PORT ?? '3000'}`, changeOrigin: false },
      '/healthz': `http://127.0.0.1:${process.env.PULSEBOARD_API_PORT ?? '3000'}`,
    },
  },
});
