// htmx under a strict Content Security Policy: no eval, no inline styles, same-origin only.
htmx.config.allowEval = false;
htmx.config.includeIndicatorStyles = false;
htmx.config.selfRequestsOnly = true;
