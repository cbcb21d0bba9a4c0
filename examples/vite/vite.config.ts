import react from '@vitejs/plugin-react';
import { defaultClientConditions, defaultServerConditions, defineConfig } from 'vite';
import { NONCE_PLACEHOLDER } from './src/csp';

/**
 * Vite for the Kiln example: React Fast Refresh, the CSP nonce placeholder on every tag Vite
 * writes into `index.html`, and workspace packages taken from their sources (`@kiln/source`;
 * an app that installs Kiln from npm leaves `resolve` out).
 */
export default defineConfig({
  plugins: [react()],
  html: { cspNonce: NONCE_PLACEHOLDER },
  resolve: { conditions: ['@kiln/source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['@kiln/source', ...defaultServerConditions] } },
  build: { manifest: true },
});
