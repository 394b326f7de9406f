/**
 * Imported first by the CLI's interactive entry (src/cli/tui.tsx), before React or Ink: React
 * picks its development or production build when it is first loaded, from NODE_ENV. The
 * production build renders with less work and prints no development warnings into the view.
 * An explicit NODE_ENV is kept.
 */
process.env['NODE_ENV'] ??= 'production';

export {};
