/**
 * playwright-core (drives Debian's chromium in the browser tests), pinned here.
 * @module
 */
export * from "npm:playwright-core@1.65.1";
