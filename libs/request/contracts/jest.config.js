module.exports = { ...require('../../../jest.preset.js'), displayName: 'request-contracts', rootDir: __dirname };
