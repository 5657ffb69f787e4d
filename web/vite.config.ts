// Builds the dashboard page into web/dist, which crates/dashboard embeds
// (include_bytes!). File names are fixed (no content hashes) so the Rust
// side can list them; the server sends `Cache-Control: no-cache`.
import { defineConfig } from "vite";

// `npm run dev` proxies the API to a running `palisade lab dashboard`.
const api = process.env.PALISADE_DASHBOARD ?? "http://127.0.0.1:9465";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      output: {
        entryFileNames: "assets/index.js",
        chunkFileNames: "assets/[name].js",
        assetFileNames: "assets/[name][extname]",
      },
    },
  },
  server: {
    proxy: { "/api": api, "/flows": api },
  },
});
