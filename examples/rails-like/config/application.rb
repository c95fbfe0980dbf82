# Marks a Rails app for group-writable (its `rails-tmp` and `rails-log` redirects). Never
# loaded: see README.md.
require_relative "boot"
require "rails/all"

module RailsLike
  class Application < Rails::Application
    config.load_defaults 8.0
  end
end
