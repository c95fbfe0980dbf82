Rails.application.routes.draw do
  root "pages#index"
  get "session", to: "pages#visits"
end
