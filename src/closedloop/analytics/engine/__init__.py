"""Pure analytics computation: attribution, funnel and reverse waterfall. Imports no Django."""
