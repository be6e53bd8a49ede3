/**
 * fflate (pure-JavaScript zlib, MIT), pinned here (the one place its version is written). It is
 * the zlib of runtimes without `node:zlib` (the browser app); fast-png depends on the same version.
 * @module
 */
export { Unzlib, zlibSync } from "npm:fflate@0.8.3";
