"""cxlab: customer- and employee-experience surveys, analysed in Jupyter.

Modules are the nouns of the domain: ``config``, ``db``, ``tenancy``, ``auth``,
``surveys``, ``responses``, ``seed``, ``cli``.
"""

__version__ = "0.1.0"
