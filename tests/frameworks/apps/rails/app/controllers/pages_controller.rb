class PagesController < ApplicationController
  def index
    render plain: "rails ok\n"
  end

  def visits
    session[:visits] = (session[:visits] || 0) + 1
    render plain: "visits #{session[:visits]}\n"
  end
end
