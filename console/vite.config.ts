import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime (tsconfig's jsxImportSource): no framework plugin is needed for a
// production build. The service serves dist/ at `/`; asset names carry content hashes (cached for a year).
export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: {
    // `npm run dev` in console/: the API of a service on :8080 (npm start) behind Vite's dev server.
    proxy: { '/api': 'http://127.0.0.1:8080', '/graphql': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
