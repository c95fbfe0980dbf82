// next's app under Paketo's npm-install layout: /workspace/node_modules is a symlink, via
// /tmp, into a layer under /layers. Turbopack (next build's default since Next.js 16)
// compiles no file outside its root, which defaults to the app directory, so without
// this `next build` fails with "Could not find the Next.js package (next/package.json)".
// The root must hold the app and its dependencies: / is the nearest directory that holds
// /workspace and /layers.
module.exports = { turbopack: { root: "/" } };
