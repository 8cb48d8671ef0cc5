"""Use cases. Each public function is one command: it validates first, then writes its records
and their audit entries inside the caller's unit of work, which commits them together."""
