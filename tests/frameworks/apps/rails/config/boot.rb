# Bundler resolves the Gemfile against the gems installed (Debian's, offline); Bootsnap
# caches compiled Ruby and the load path in tmp/cache, or BOOTSNAP_CACHE_DIR.
require "bundler/setup"
require "bootsnap/setup"
