module.exports = { ...require('../../../jest.preset.js'), displayName: 'privileged-contracts', rootDir: __dirname };
