// Next.js defaults: the server writes its image cache to .next/cache/images and the pages
// that ISR regenerates under .next/server/.
module.exports = {};
