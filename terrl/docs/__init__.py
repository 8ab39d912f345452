"""Generated documentation: the view model, rules in plain English, hierarchy diagrams and the Jinja2 templates."""
