require_relative "boot"
require "rails"
require "action_controller/railtie"

module FrameworkRails
  # Rails defaults: logs to log/production.log, pid file in tmp/pids, sessions in a cookie.
  class Application < Rails::Application
    config.load_defaults 6.1
    config.eager_load = true
    config.secret_key_base = ENV.fetch("SECRET_KEY_BASE", "framework-suite-only")
  end
end
